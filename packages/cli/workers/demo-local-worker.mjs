// A worker of act 1 of `lightbeam demo` (one process, no network). Plain .mjs: a .ts worker entry
// fails under tsx on Node 20. Started with startWorker() from @lightbeam/shm, so it attaches to the
// main thread's shared memory by itself. The main thread drives it with small control messages:
//
// - { op: 'lbm', mode, channel, results, capacity, timeoutMs }: bind `channel` over Transport.kShm
//   and serve it until a `stop` message arrives on it. Each message carries one BULK_EXPOSE bulk:
//   a live view of the producer's slab block (no copy). mode 'pipe': transform the bytes in place
//   and hand the very block on to the consumer with exposeMove (no copy either); mode 'fan': only
//   read the bytes (every worker reads the same block) and answer with their checksum; mode
//   'chain': transform like 'pipe' and move the block on to `results`, which is the next stage's
//   channel (the consumer's for the last stage), taking a block that came moved from the stage
//   before.
//   This thread does nothing else meanwhile, so it parks on the blocking receive (waitMetadataSync).
// - { op: 'pm', mode, seq, key, data, transfer }: the postMessage baseline, the same work on a
//   structured-clone copy (or a transferred buffer), answered the same way; in a chain a stage
//   that has an `out` port (from { op: 'pmlink' }) passes the payload on to the next stage instead.
import { parentPort } from 'node:worker_threads';
import { ETIMEDOUT, LBM_OK, EAGAIN, Transport, TransportFactory, strerror } from '@lightbeam/core';
import '@lightbeam/shm';
import { DemoMeta, checksumPayload, transformPayload } from '../dist/demo/payload.js';

async function serve({ mode, channel, results, capacity, timeoutMs }) {
  // spinUs 0: park at once when the ring is empty; spinning would steal a core from the producer
  // on a 2-core machine.
  const server = await TransportFactory.getServer(channel, Transport.kShm, undefined, undefined, { capacity, spinUs: 0 });
  const client = await TransportFactory.getClient(results, Transport.kShm);
  parentPort.postMessage({ op: 'bound' });
  let served = 0;
  try {
    // One meta per direction, reused for every message: the receive refills it in place.
    const job = new DemoMeta();
    const out = new DemoMeta();
    for (;;) {
      let rc = server.waitMetadataSync(job, timeoutMs);
      if (rc === ETIMEDOUT) throw new Error(`no message on ${channel} for ${timeoutMs} ms`);
      if (rc !== LBM_OK) throw new Error(`waitMetadataSync on ${channel}: ${strerror(rc)}`);
      if (job.stop) break;
      const bulk = job.send[0];
      // A block moved to this stage is taken, so the release below leaves it to the next one.
      const full = (mode === 'chain' ? server.take(job, 0) : null) ?? bulk?.data;
      if (full == null) throw new Error(`message ${job.seq} on ${channel} arrived without its shared bytes`);
      const view = full.ptr; // the producer's very bytes
      out.seq = job.seq;
      out.key = mode === 'chain' ? job.key + 1 : job.key;
      if (mode !== 'fan') {
        transformPayload(view, job.key);
        out.checksum = checksumPayload(view);
        // Hand the block itself on: the consumer's release frees it, nobody copies it.
        out.send = [client.exposeMove(full, bulk.size)];
      } else {
        out.checksum = checksumPayload(view);
        out.send.length = 0;
      }
      rc = client.sendNow(out);
      // The results ring is sized for every message in flight; wait rather than fail if it is not.
      if (rc === EAGAIN) rc = await client.send(out, { timeoutMs });
      if (rc !== LBM_OK) throw new Error(`sending result ${job.seq} to ${results}: ${strerror(rc)}`);
      // The input held only a descriptor: release its slot now rather than at the next receive.
      server.release(job);
      served++;
    }
  } finally {
    await client.close();
    await server.close();
  }
  return served;
}

// The ports of a postMessage chain: to the next stage, from the previous one.
let nextPort = null;
let prevPort = null;

function postMessageTask({ mode, seq, key, data, transfer }) {
  if (mode === 'chain' && nextPort !== null) {
    transformPayload(data, key);
    nextPort.postMessage({ op: 'pm', mode, seq, key: key + 1, data, transfer }, transfer ? [data.buffer] : []);
  } else if (mode !== 'fan') {
    transformPayload(data, key);
    const checksum = checksumPayload(data);
    parentPort.postMessage({ op: 'pm', seq, checksum, data }, transfer ? [data.buffer] : []);
  } else {
    // A transferred copy goes back so the producer can reuse its buffer; a clone is just dropped.
    const checksum = checksumPayload(data);
    if (transfer) parentPort.postMessage({ op: 'pm', seq, checksum, data }, [data.buffer]);
    else parentPort.postMessage({ op: 'pm', seq, checksum });
  }
}

parentPort.on('message', (msg) => {
  if (msg.op === 'pm') {
    postMessageTask(msg);
  } else if (msg.op === 'pmlink') {
    nextPort = msg.out ?? null;
    prevPort = msg.in ?? null;
    prevPort?.on('message', postMessageTask);
  } else if (msg.op === 'pmunlink') {
    nextPort?.close();
    prevPort?.close();
    nextPort = prevPort = null;
  } else if (msg.op === 'lbm') {
    serve(msg).then(
      (served) => parentPort.postMessage({ op: 'done', served }),
      (err) => parentPort.postMessage({ op: 'error', message: err.message }),
    );
  } else if (msg.op === 'exit') {
    parentPort.close();
  }
});
parentPort.postMessage({ op: 'ready' });
