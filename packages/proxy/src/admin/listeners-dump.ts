import type { SocketAddress } from '../config/compiled-config.js';

/** A listener as Envoy's admin `/listeners` shows it: its name and where it actually listens. */
export interface ListenerStatus {
  name: string;
  address: SocketAddress;
  /** Terminates TLS (not an Envoy field; `trellis up` prints https URLs for these). */
  tls?: boolean;
}

/** `/listeners`: `name::address:port` lines, as Envoy prints them. */
export function listenersText(list: readonly ListenerStatus[]): string {
  return list.map((l) => `${l.name}::${l.address.address}:${l.address.port}\n`).join('');
}

/** `/listeners?format=json`: Envoy's `listener_statuses` with `local_address.socket_address` (plus `trellis_tls`). */
export function listenersJson(list: readonly ListenerStatus[]): object {
  return {
    listener_statuses: list.map((l) => ({
      name: l.name,
      local_address: { socket_address: { address: l.address.address, port_value: l.address.port } },
      trellis_tls: l.tls === true,
    })),
  };
}
