#!/usr/bin/env node
// A committed launcher, so package managers can link the bin before the package is built.
import '../dist/main.js';
