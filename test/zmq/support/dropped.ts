/**
 * Whether a receiving socket enforces ZeroMQ's own size bound (ZMQ_MAXMSGSIZE): libzmq closes the
 * connection of a peer whose frame header announces more than the bound, before reading the frame.
 */
import type { Dealer, Push } from 'zeromq';

/**
 * Connects `sock` to `url`, sends `msg`, and tells whether the far side dropped the connection
 * (waiting at most `ms`: a receiver without the bound takes the message instead). Closes `sock`.
 *
 * @param sock - a fresh PUSH or DEALER (whatever the far side's socket type pairs with)
 * @param url - the far side's endpoint
 * @param msg - the frames
 * @param ms - how long to wait for the disconnect
 */
export async function sendAndSeeDropped(sock: Push | Dealer, url: string, msg: Uint8Array[], ms = 10000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const dropped = new Promise<boolean>((resolve) => sock.events.on('disconnect', () => resolve(true)));
    const bound = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    sock.connect(url);
    await sock.send(msg);
    return await Promise.race([dropped, bound]);
  } finally {
    clearTimeout(timer);
    sock.close();
  }
}
