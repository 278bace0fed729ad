import { expect } from 'chai';
import type { Bulk } from '@lightbeam/core';
import { LbmMeta, decodeMeta, encodeMeta } from '@lightbeam/core';
import { Prng, testSeed } from '../support/prng.js';
import type { FieldKind } from '../contract/random-meta.js';
import { SchemaMeta, SchemaStruct, randomMeta } from '../contract/random-meta.js';
import { RequestMeta } from '../support/metas.js';

/** A frame under test and how to make a meta of its class. */
interface Subject {
  name: string;
  frame: Uint8Array;
  make: () => LbmMeta;
}

const SENTINEL_SEND: readonly Bulk[] = Object.freeze([{ data: null, size: 4242, flags: 3 }]);
const SENTINEL_RECV: readonly Bulk[] = Object.freeze([{ data: null, size: 4343, flags: 1 }]);

/**
 * Decodes one (possibly corrupt) frame into a meta of the subject's class and into a plain
 * `LbmMeta`, and returns a description of any broken rule, or null. Rules: never throws; returns
 * 0 or -1; on -1 `send`/`recv` are untouched; on 0 the decoded meta encodes again and that frame
 * decodes to the same bytes (so nothing half-decoded escapes).
 */
function check(subject: Subject, frame: Uint8Array): string | null {
  for (const make of [subject.make, () => new LbmMeta()]) {
    const meta = make();
    meta.send = SENTINEL_SEND as Bulk[];
    meta.recv = SENTINEL_RECV as Bulk[];
    let rc: number;
    try {
      rc = decodeMeta(frame, meta);
    } catch (err) {
      return `threw ${String(err)}`;
    }
    if (rc === -1) {
      if (meta.send !== SENTINEL_SEND || meta.recv !== SENTINEL_RECV) return 'send/recv replaced on -1';
      continue;
    }
    if (rc !== 0) return `returned ${rc}`;
    if (meta.send === SENTINEL_SEND || meta.recv === SENTINEL_RECV) return 'send/recv not replaced on 0';
    try {
      const again = encodeMeta(meta);
      const meta2 = make();
      if (decodeMeta(again, meta2) !== 0) return 'decoded meta re-encodes to an undecodable frame';
      if (Buffer.compare(encodeMeta(meta2), again) !== 0) return 'decoded meta does not round-trip';
    } catch (err) {
      return `decoded meta does not re-encode: ${String(err)}`;
    }
  }
  return null;
}

/** Runs `check` over every truncation and the given single-byte changes; collects failures. */
function mutate(subject: Subject, rng: Prng, sampleOver: number, samples: number): string[] {
  const failures: string[] = [];
  const f = subject.frame;
  const note = (what: string, frame: Uint8Array): void => {
    const err = check(subject, frame);
    if (err !== null && failures.length < 10) failures.push(`${subject.name}: ${what}: ${err}`);
  };
  for (let len = 0; len < f.byteLength; len++) note(`truncated to ${len}`, f.subarray(0, len));
  const copy = f.slice();
  if (f.byteLength <= sampleOver) {
    for (let at = 0; at < f.byteLength; at++) {
      for (let v = 0; v < 256; v++) {
        if (v === f[at]) continue;
        copy[at] = v;
        note(`byte ${at} = 0x${v.toString(16)}`, copy);
      }
      copy[at] = f[at];
    }
  } else {
    for (let i = 0; i < samples; i++) {
      const at = rng.int(0, f.byteLength - 1);
      const v = rng.int(0, 255);
      copy[at] = v;
      note(`byte ${at} = 0x${v.toString(16)}`, copy);
      copy[at] = f[at];
    }
  }
  // Whole 64-bit lies at every offset: the counts and lengths a hostile peer would forge.
  const dv = new DataView(copy.buffer);
  for (let at = 0; at + 8 <= f.byteLength; at++) {
    for (const lie of [2n ** 64n - 1n, 2n ** 60n, 2n ** 53n - 1n, 2n ** 31n, 65537n]) {
      dv.setBigUint64(at, lie, true);
      note(`u64 at ${at} = ${lie}`, copy);
      copy.set(f.subarray(at, at + 8), at);
    }
  }
  return failures;
}

const hexFrame = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/[ |]/g, ''), 'hex'));

function goldenSubjects(): Subject[] {
  return [
    { name: 'golden 28-byte LbmMeta', frame: hexFrame('0100000000000000 0f00000000000000 02000000 0000000000000000'), make: () => new LbmMeta() },
    { name: 'golden 16-byte empty LbmMeta', frame: new Uint8Array(16), make: () => new LbmMeta() },
    {
      name: 'golden 47-byte RequestMeta',
      frame: hexFrame('0100000000000000 0d00000000000000 02000000 0000000000000000 2a000000 0700000000000000 746573745f6f70'),
      make: () => new RequestMeta(),
    },
  ];
}

function schemaSubject(name: string, fields: FieldKind[], values: unknown[]): Subject {
  const meta = new SchemaMeta(fields, values);
  meta.send = [{ data: null, size: 3, flags: 2 }];
  return { name, frame: encodeMeta(meta), make: () => new SchemaMeta(fields) };
}

describe('archive mutation: every truncation and byte change decodes to 0 or -1', function () {
  this.timeout(120_000);

  for (const subject of goldenSubjects()) {
    it(`${subject.name}: every truncation, all 256 values at every byte`, () => {
      expect(mutate(subject, new Prng(1), 128, 0)).to.deep.equal([]);
    });
  }

  it('small custom frames (vectors, nested structs, bytes, bool): exhaustive', () => {
    const subjects = [
      schemaSubject('vector<vector<u16>>', [{ vector: { vector: 'u16' } }], [[[1], [2, 3]]]),
      schemaSubject('struct{string, struct{bool, bytes}}', [{ struct: ['string', { struct: ['bool', 'bytes'] }] }], [
        new SchemaStruct(['string', { struct: ['bool', 'bytes'] }], ['ab', new SchemaStruct(['bool', 'bytes'], [true, Uint8Array.of(1, 2)])]),
      ]),
      schemaSubject('i64 u64 f32 f64 usize', ['i64', 'u64', 'f32', 'f64', 'usize'], [-5n, 7n, 1.5, -2.25, 99]),
      schemaSubject('vector<string> non-ASCII', [{ vector: 'string' }], [['é', '', '日本']]),
    ];
    const failures = subjects.flatMap((s) => mutate(s, new Prng(2), 128, 0));
    expect(failures).to.deep.equal([]);
  });

  it('random frames with every field type: every truncation, a seeded sample of byte changes', () => {
    const seed = testSeed(0x00c0ffee);
    const rng = new Prng(seed);
    const failures: string[] = [];
    for (let i = 0; i < 6; i++) {
      const meta = randomMeta(rng, 2);
      const fields = meta.fields;
      failures.push(...mutate({ name: `seed ${seed} frame #${i} (${encodeMeta(meta).byteLength} bytes)`, frame: encodeMeta(meta), make: () => new SchemaMeta(fields) }, rng, 128, 3000));
    }
    expect(failures).to.deep.equal([]);
  });
});
