/**
 * Without the addon (simulated with LIGHTBEAM_FABRIC_DISABLE=1 in a fresh process), importing
 * @lightbeam/fabric says so in one line, kFabric rejects with ERR_LBM_TRANSPORT_UNAVAILABLE, and
 * the other transports work unchanged. Runs everywhere, addon or not.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('@lightbeam/fabric without its native addon', function () {
  this.timeout(30_000);

  it('warns in exactly one line on import, rejects kFabric with ERR_LBM_TRANSPORT_UNAVAILABLE, and leaves kZeroMq working', () => {
    const script = `
      import { BULK_XFER, LbmMeta, Transport, TransportFactory } from '@lightbeam/core';
      import { fabricAvailable } from '@lightbeam/fabric';
      import '@lightbeam/zmq-bridge';
      const out = { fabricAvailable };
      try { await TransportFactory.getServer('127.0.0.1', Transport.kFabric, 'tcp', 0); out.fabric = 'bound'; }
      catch (e) { out.fabric = e.code; out.message = e.message; }
      const s = await TransportFactory.getServer('127.0.0.1', Transport.kZeroMq, 'tcp', 0);
      const c = await TransportFactory.getClient('127.0.0.1', Transport.kZeroMq, 'tcp', s.port);
      const m = new LbmMeta(); const b = new TextEncoder().encode('still works');
      m.send.push(c.expose(b, b.length, BULK_XFER));
      await c.send(m, { timeoutMs: 5000 });
      const r = new LbmMeta();
      out.zmq = await s.waitMetadata(r, { timeoutMs: 5000 });
      await c.close(); await s.close();
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LIGHTBEAM_FABRIC_DISABLE: '1', LIGHTBEAM_FABRIC_QUIET: '' },
      timeout: 25_000,
    });
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^@lightbeam\/fabric: Transport\.kFabric unavailable: /);
    const out = JSON.parse(r.stdout) as { fabricAvailable: boolean; fabric: string; message: string; zmq: number };
    expect(out.fabricAvailable).to.equal(false);
    expect(out.fabric).to.equal('ERR_LBM_TRANSPORT_UNAVAILABLE');
    expect(out.message).to.include('LIGHTBEAM_FABRIC_DISABLE');
    expect(out.zmq).to.equal(0);
  });
});

describe('@lightbeam/fabric on CI', () => {
  it('has its addon built wherever libfabric is installed, so the fabric suites run instead of skipping', async function () {
    const { existsSync } = await import('node:fs');
    if (process.env.CI !== 'true' || !existsSync('/usr/include/rdma/fabric.h')) this.skip();
    const { fabricAvailable, fabricUnavailableReason } = await import('@lightbeam/fabric');
    expect(fabricAvailable, fabricUnavailableReason).to.equal(true);
  });
});
