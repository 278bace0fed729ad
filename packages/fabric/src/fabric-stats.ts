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
}
