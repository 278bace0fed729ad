/**
 * Byte layout of the memory manager's control SharedArrayBuffer: the state every attached
 * thread shares (how many regions exist, where the channel directory is, the creation options).
 *
 * Control SharedArrayBuffer (i32 words, little-endian):
 *
 * | offset | size | field                                   | who writes it                      |
 * |-------:|-----:|-----------------------------------------|------------------------------------|
 * |      0 |    4 | magic `0x4C424D4D` ('LBMM')              | creator, once                      |
 * |      4 |    4 | regions claimed (next minor)            | any thread, CAS when growing       |
 * |      8 |    4 | directory state 0 none/1 creating/2 set | any thread, CAS 0->1, winner ->2   |
 * |     12 |    4 | directory pointer major                 | directory winner, before state 2   |
 * |     16 |    4 | directory pointer minor                 | directory winner, before state 2   |
 * |     20 |    4 | directory pointer offset                | directory winner, before state 2   |
 * |     24 |    4 | max regions                             | creator, once                      |
 * |     28 |    4 | region bytes                            | creator, once                      |
 * |     32 |    4 | page bytes                              | creator, once                      |
 * |     36 |    4 | thread slots per region                 | creator, once                      |
 * |     40 |    4 | allocator major of every region         | creator, once                      |
 * |     64 | 16×n | region entry `minor`: +0 ready flag     | the region's creator, after init   |
 */

/** Magic word at offset 0: 'LBMM'. */
export const CONTROL_MAGIC = 0x4c424d4d;
/** Word index of each header field (i32 words). */
export const C = { magic: 0, claimed: 1, dirState: 2, dirMajor: 3, dirMinor: 4, dirOff: 5, maxRegions: 6, regionBytes: 7, pageBytes: 8, slots: 9, major: 10 } as const;
/** Word index of region entry 0; entry `minor` starts at `ENTRY_WORD + 4 * minor`. */
export const ENTRY_WORD = 16;
/** Bytes of the control buffer: the 64-byte header and 256 region entries of 16 bytes. */
export const CONTROL_BYTES = 64 + 16 * 256;
