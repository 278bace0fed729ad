// Types of bench/fabric/round-trip.mjs.
import type { FabricClient, FabricServer } from '@lightbeam/fabric';

/**
 * One 64 B round trip through the echo peer: `client` sends, `server` receives the echo and reads
 * its bulk; resolves the round trip's time in microseconds. The messages are made once.
 */
export declare function roundTrip(client: FabricClient, server: FabricServer): () => Promise<number>;
