// The per-thread memory manager: pointer resolution, expose() integration, growth seen by workers.
import { freshMemory } from '../support/memory.js';
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { BULK_EXPOSE, NULL_POINTER, expose, fullPtrFromView, getPointerResolver, makePointer } from '@lightbeam/core';
import type { Pointer } from '@lightbeam/core';
import { MemoryManager } from '@lightbeam/shm';
import { codeOf } from '../support/error-code.js';

const WORKER = new URL('../fixtures/shm/alloc-worker.mjs', import.meta.url);

function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('MemoryManager', function () {
  this.timeout(60000);
  let manager: MemoryManager;
  let workers: Worker[] = [];

  beforeEach(() => {
    manager = freshMemory({ regionBytes: 1 << 20, pageBytes: 4096, maxRegions: 3, major: 5 });
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
    workers = [];
    manager.detach();
  });

  async function worker(handle = manager.handle()): Promise<Worker> {
    const w = new Worker(WORKER, { workerData: { mode: 'rpc', lightbeamShm: handle }, execArgv: [] });
    workers.push(w);
    await nextMessage(w);
    return w;
  }

  it('installs itself as the thread resolver: expose finds pointers by containment and resolves pointers', () => {
    expect(getPointerResolver()).to.equal(manager);
    expect(MemoryManager.current()).to.equal(manager);
    const p = manager.allocateOrThrow(256);
    expect(p.allocId).to.deep.equal({ major: 5, minor: 0 });
    const view = manager.toFullPtr(p, 256).ptr;
    view.fill(9);
    const inner = view.subarray(64, 128);
    expect(fullPtrFromView(inner).shm).to.deep.equal(makePointer(5, 0, p.off + 64));
    expect(expose(inner, 64, BULK_EXPOSE).data!.shm).to.deep.equal(makePointer(5, 0, p.off + 64));
    const fromPointer = expose(p, 256, BULK_EXPOSE).data!;
    expect(fromPointer.ptr.buffer).to.equal(view.buffer);
    expect(fromPointer.ptr.byteOffset).to.equal(p.off);
    expect(fromPointer.ptr[255]).to.equal(9);
    expect(manager.fromView(new Uint8Array(64))).to.equal(NULL_POINTER);
    expect(manager.fromView(new Uint8Array(new SharedArrayBuffer(64)))).to.equal(NULL_POINTER);
    expect(codeOf(() => manager.toFullPtr(makePointer(5, 0, (1 << 20) - 8), 64))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => manager.toFullPtr(makePointer(6, 0, p.off), 64))).to.equal('ERR_LBM_BAD_POINTER');
    expect(manager.toView(makePointer(5, 9, p.off), 1)).to.equal(null);
    manager.free(p);
  });

  it('reports misuse through the manager with exact codes', () => {
    const p = manager.allocateOrThrow(64);
    expect(codeOf(() => manager.allocate(0))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => manager.allocate(2 << 20))).to.equal('ERR_LBM_INVALID_ARGUMENT');
    expect(codeOf(() => manager.free(makePointer(5, 2, p.off)))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => manager.free(makePointer(1, 0, p.off)))).to.equal('ERR_LBM_BAD_POINTER');
    expect(codeOf(() => manager.free({ allocId: p.allocId, off: p.off + 1 }))).to.equal('ERR_LBM_BAD_POINTER');
    manager.free(p);
    expect(codeOf(() => manager.free(p))).to.equal('ERR_LBM_DOUBLE_FREE');
    expect(manager.stats()[0].blocksInUse).to.equal(0);
  });

  it('a worker writes through its FullPtr and the main thread reads the same bytes', async () => {
    const w = await worker();
    const p = manager.allocateOrThrow(4096);
    w.postMessage({ op: 'write', p, size: 4096, byte: 0xab });
    expect(await nextMessage(w)).to.deep.include({ ok: true });
    expect(manager.toFullPtr(p, 4096).ptr.every((b) => b === 0xab)).to.equal(true);
    manager.toFullPtr(p, 4096).ptr[17] = 1;
    w.postMessage({ op: 'read', p, size: 32 });
    const r = await nextMessage<{ bytes: number[] }>(w);
    expect(r.bytes[16]).to.equal(0xab);
    expect(r.bytes[17]).to.equal(1);
    manager.free(p);
  });

  it('grows by new regions when one fills, keeps old pointers valid, and attached workers learn the new ones', async () => {
    const w = await worker();
    const held: Pointer[] = [];
    for (let i = 0; i < 40; i++) held.push(manager.allocateOrThrow(60000));
    const minors = [...new Set(held.map((p) => p.allocId.minor))];
    expect(minors).to.deep.equal([0, 1, 2]);
    const s = manager.stats();
    expect(s.map((r) => r.allocId)).to.deep.equal([0, 1, 2].map((minor) => ({ major: 5, minor })));
    // All three regions full of 64 KiB blocks: growth is capped at maxRegions.
    while (manager.allocate(60000) !== null);
    expect(codeOf(() => manager.allocateOrThrow(60000))).to.equal('ERR_LBM_NOMEM');
    // The worker resolves a pointer in a region created after it attached.
    const late = held.find((p) => p.allocId.minor === 2)!;
    w.postMessage({ op: 'write', p: late, size: 60000, byte: 0x42 });
    expect(await nextMessage(w)).to.deep.include({ ok: true });
    expect(manager.toFullPtr(late, 60000).ptr[59999]).to.equal(0x42);
    w.postMessage({ op: 'regions' });
    expect(await nextMessage(w)).to.deep.include({ regions: [0, 1, 2] });
    // Old pointers stay valid.
    expect(manager.toFullPtr(held[0], 8).ptr.length).to.equal(8);
    // A worker attached with a handle older than the growth asks for the regions it lacks.
    const stale = await worker({ ...manager.handle(), regions: manager.handle().regions.slice(0, 1) });
    stale.postMessage({ op: 'free', p: late });
    expect(await nextMessage(stale)).to.deep.equal({ ok: true, synced: true });
    // An allocator id no thread ever created fails clearly, and the worker keeps running.
    stale.postMessage({ op: 'free', p: makePointer(5, 7, 4096) });
    const bad = await nextMessage<{ ok: boolean; code: string; message: string }>(stale);
    expect(bad).to.deep.include({ ok: false, code: 'ERR_LBM_BAD_POINTER' });
    expect(bad.message).to.match(/no region of this memory manager/);
    stale.postMessage({ op: 'read', p: held[0], size: 4 });
    expect(await nextMessage(stale)).to.deep.include({ ok: true });
  });

  it('returns the same directory pointer to every caller and runs create once', () => {
    let calls = 0;
    const make = (): Pointer => {
      calls++;
      return manager.allocateOrThrow(128);
    };
    const d1 = manager.directory(make);
    const second = MemoryManager.attach(manager.handle());
    const d2 = second.directory(make);
    second.detach();
    expect(d2).to.deep.equal(d1);
    expect(calls).to.equal(1);
  });

  it('rejects a handle that is not one', () => {
    expect(() => MemoryManager.attach({} as never)).to.throw(TypeError, /expected a handle/);
  });
});
