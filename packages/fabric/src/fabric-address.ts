/**
 * How a Lightbeam address (host or name, protocol, port) becomes libfabric's `node` and `service`.
 */

/** What `fi_getinfo` is given for an address, and the URL that names it in errors. */
export interface FabricNode {
  /** `fi_getinfo`'s node: the host for tcp-based providers, the endpoint name for `shm`. */
  node: string;
  /** `fi_getinfo`'s service: the TCP port, or `undefined` for `shm`. */
  service: string | undefined;
  /** `fabric+<provider>://<addr>:<port>`, for messages. */
  url: string;
}

/**
 * Maps an address to libfabric's terms. With the `shm` provider the endpoint's name is
 * `lightbeam-<addr>-<port>` (characters outside `[A-Za-z0-9._-]` become `_`), which a server
 * takes exactly and a client in any process of the host finds.
 *
 * @param provider - the libfabric provider
 * @param addr - host, or a name with `shm`
 * @param port - TCP port, or part of the name with `shm`
 */
export function fabricNode(provider: string, addr: string, port: number): FabricNode {
  const url = `fabric+${provider}://${addr}:${port}`;
  if (provider === 'shm' || provider.startsWith('shm;')) {
    return { node: `lightbeam-${addr.replace(/[^A-Za-z0-9._-]/g, '_')}-${port}`, service: undefined, url };
  }
  return { node: addr, service: String(port), url };
}
