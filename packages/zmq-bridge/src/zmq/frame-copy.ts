/**
 * Copies of frames handed to zeromq.js. zeromq.js copies a frame of up to 128 bytes itself when
 * `send` is called, and keeps a larger one by reference until its I/O thread has written it (an
 * event JavaScript cannot observe): only those need a copy of their own for the caller to reuse
 * its buffer (or a shared-memory block to be freed) at once.
 */
import { sendCopy } from './send-copy.js';

/** zeromq.js's zero-copy threshold: frames up to this many bytes are copied by zeromq.js. */
export const ZMQ_COPY_THRESHOLD = 128;

/**
 * A frame zeromq.js may keep: `view` itself when zeromq.js copies it anyway, else a copy in
 * memory nobody else writes until zeromq.js has let go of it (see send-copy.ts).
 *
 * @param view - the bytes to send
 */
export function sendableCopy(view: Uint8Array): Uint8Array {
  return view.byteLength <= ZMQ_COPY_THRESHOLD ? view : sendCopy(view);
}
