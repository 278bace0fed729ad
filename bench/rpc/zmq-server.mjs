// RPC server process of bench/rpc.bench.ts: the empty handler over kZeroMq tcp on an ephemeral
// port of 127.0.0.1; reports the port to its parent (fork IPC) and serves until disconnected.
import { RpcServer, Transport } from '@lightbeam/core';
import '@lightbeam/zmq-bridge';

const server = await RpcServer.listen(Transport.kZeroMq, '127.0.0.1', { protocol: 'tcp', port: 0 });
server.handle('empty', () => undefined);
process.send({ port: server.server.port });
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
