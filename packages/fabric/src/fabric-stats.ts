/** What `FabricClient.stats()` and `FabricServer.stats()` report: registrations and how completions came. */
export interface FabricStats {
  /** Memory registrations made (`fi_mr_reg`) since the endpoint opened. */
  registrations: number;
  /** Registrations held now: exposures, kept staging buffers, buffers registered whole. */
  registered: number;
  /** Bytes of released staging buffers kept, registered, for the next copies. */
  stagedBytes: number;
  /** Completions read on the JavaScript thread while a call was hot. */
  polledEvents: number;
  /** Completions handed over by the progress thread. */
  threadEvents: number;
  /** Release notes sent (server) or received (client); one note releases a run of messages. */
  releaseNotes: number;
  /**
   * Times this side asked the kernel whether its peer is alive (shm region owner, pid). A
   * server asks at most once every 50 ms per client while messages come, and again when a read fails.
   */
  peerProbes: number;
}
