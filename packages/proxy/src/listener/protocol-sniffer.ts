import type { Socket } from 'node:net';

/** The HTTP/2 connection preface a prior-knowledge client opens with (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type SniffedProtocol = 'http1' | 'http2';

/**
 * Reads just enough of a new connection to tell HTTP/2 prior knowledge from HTTP/1.x, then puts the bytes
 * back (unshift) and leaves the socket paused for whichever server takes it. A connection that says
 * nothing within `timeoutMs`, or closes first, is dropped.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number, done: (protocol: SniffedProtocol) => void): void {
  let buffered: Buffer | null = null;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer): void => {
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, PREFACE.length);
    const isPrefix = buffered.compare(PREFACE, 0, n, 0, n) === 0;
    if (isPrefix && n < PREFACE.length) return; // could still be either: wait for more
    cleanup();
    socket.pause();
    socket.unshift(buffered);
    done(isPrefix ? 'http2' : 'http1');
  };
  const onGone = (): void => {
    cleanup();
    socket.destroy();
  };
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
  };
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('error', onGone);
}
