export type { HostPort } from './host-port.js';
export { formatHostPort, parseHostPort } from './host-port.js';
