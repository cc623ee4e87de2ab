/**
 * Hands out loopback addresses to stand in for pod IPs: 127.0.1.2, 127.0.1.3, ... 127.0.255.254. Linux routes
 * all of 127.0.0.0/8 to `lo`, so any of them can be bound without setup. 127.0.0.x stays the host's (resolvers
 * such as 127.0.0.53 live there); .0, .1 and .255 are skipped as network/gateway/broadcast look-alikes.
 *
 * Allocation walks forward from the last address handed out, so a released address isn't reused until the
 * range wraps: a fresh pod never inherits a just-deleted pod's IP (and any stale endpoint pointing at it).
 */
export class LoopbackIpAllocator {
  static readonly HOSTS_PER_SUBNET = 253; // .2 .. .254
  static readonly SIZE = 255 * LoopbackIpAllocator.HOSTS_PER_SUBNET; // third octet 1 .. 255

  private readonly inUse = new Set<number>();
  private cursor: number;

  /** `first`: where allocation starts (127.0.1.2 by default), e.g. to keep two clusters on one host apart. */
  constructor(first = '127.0.1.2') {
    const slot = ipToSlot(first);
    if (slot === undefined) throw new Error(`${first} is not a pod address (127.0.1.2 to 127.0.255.254, last octet 2-254)`);
    this.cursor = slot;
  }

  allocate(): string {
    for (let i = 0; i < LoopbackIpAllocator.SIZE; i++) {
      const slot = (this.cursor + i) % LoopbackIpAllocator.SIZE;
      if (this.inUse.has(slot)) continue;
      this.inUse.add(slot);
      this.cursor = slot + 1;
      return slotToIp(slot);
    }
    throw new Error(`no free loopback address: all ${LoopbackIpAllocator.SIZE} pod IPs are in use`);
  }

  release(ip: string): void {
    const slot = ipToSlot(ip);
    if (slot !== undefined) this.inUse.delete(slot);
  }

  get size(): number {
    return this.inUse.size;
  }
}

function slotToIp(slot: number): string {
  const third = 1 + Math.floor(slot / LoopbackIpAllocator.HOSTS_PER_SUBNET);
  const fourth = 2 + (slot % LoopbackIpAllocator.HOSTS_PER_SUBNET);
  return `127.0.${third}.${fourth}`;
}

function ipToSlot(ip: string): number | undefined {
  const m = /^127\.0\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const third = Number(m[1]);
  const fourth = Number(m[2]);
  if (third < 1 || third > 255 || fourth < 2 || fourth > 254) return undefined;
  return (third - 1) * LoopbackIpAllocator.HOSTS_PER_SUBNET + (fourth - 2);
}
