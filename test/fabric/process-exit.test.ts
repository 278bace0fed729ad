/**
 * A process that used an shm endpoint exits when it asks to. The addon's reaper thread waits on a
 * condition variable for the life of the process; once it was a global whose destructor, run by
 * exit(), waited for that waiter forever, so every such process (a mocha run with `exit: true`,
 * `process.exit()` in a service) hung at exit, idle, until killed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { skipWithoutFabric } from './support/fabric-pair.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('fabric: a process that used shm exits', function () {
  this.timeout(60_000);
  before(function () {
    skipWithoutFabric(this);
  });

  for (const how of ['process.exit(0)', 'the end of its event loop']) {
    it(`ends on ${how} after an shm server and client exchanged a message and closed`, () => {
      const script = `
        import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
        import '@lightbeam/fabric';
        const s = await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'shm', 0);
        const c = await TransportFactory.getClient('127.0.0.1', Transport.kFabric, 'shm', s.port);
        const m = new LbmMeta(); const b = new TextEncoder().encode('bye');
        m.send.push(c.expose(b, b.length, BULK_XFER));
        if (await c.send(m) !== 0) throw new Error('send failed');
        const r = new LbmMeta();
        if (await s.waitMetadata(r, { timeoutMs: 10000 }) !== 0) throw new Error('no message');
        await c.close(); await s.close();
        console.log('closed');
        ${how.startsWith('process') ? how + ';' : ''}`;
      // The bound only turns a hang into a failure; a healthy run takes a second or two.
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 45_000, killSignal: 'SIGKILL' });
      expect(r.stdout, r.stderr).to.contain('closed');
      expect(r.signal, 'the process had to be killed: it hung at exit').to.equal(null);
      expect(r.status, r.stderr).to.equal(0);
    });
  }
});
