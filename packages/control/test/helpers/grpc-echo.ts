import * as grpc from '@grpc/grpc-js';

/** A tiny gRPC server whose one method answers with its own name: enough to see where a call landed. */
export async function startEchoServer(name: string, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  const raw = (b: Buffer) => b;
  server.addService(
    {
      Who: { path: '/trellis.test.Echo/Who', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
    },
    { Who: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}
