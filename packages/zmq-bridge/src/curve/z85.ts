/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: every 4 bytes become 5 characters. Used to
 * compare the binary client key a ZAP request carries with the Z85 keys of an allow-list.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/**
 * Encodes bytes as Z85.
 *
 * @param data - a multiple of 4 bytes (a CURVE key is 32)
 * @throws RangeError when the length is not a multiple of 4
 */
export function z85Encode(data: Uint8Array): string {
  if (data.byteLength % 4 !== 0) throw new RangeError(`Z85 needs a multiple of 4 bytes, got ${data.byteLength}`);
  let out = '';
  for (let i = 0; i < data.byteLength; i += 4) {
    let v = ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = ALPHABET[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

/** True when `key` is a 40-character Z85 string (a 32-byte CURVE key). */
export function isZ85Key(key: unknown): key is string {
  if (typeof key !== 'string' || key.length !== 40) return false;
  for (const c of key) if (!ALPHABET.includes(c)) return false;
  return true;
}
