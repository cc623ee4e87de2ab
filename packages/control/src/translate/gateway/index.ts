/** Gateway translation (Istio's pilot/pkg/networking/core/gateway.go): Gateways + VirtualServices -> a gateway proxy's listeners and routes. */
export { gatewayListeners, TLS_INSPECTOR, TLS_INSPECTOR_TYPE } from './listeners.js';
export { gatewayRouteConfigurations } from './routes.js';
export { gatewayPorts, gatewaysFor, gatewayListenerName, gatewayRouteName, type GatewayPort, type GatewayServer } from './servers.js';
export { matchingHosts, parseServerHost, type ServerHost } from './hosts.js';
export { resolveGatewayName, namesGateway, virtualServicesForGateway } from './bindings.js';
export { gatewayTransportSocket, DOWNSTREAM_TLS_CONTEXT_TYPE, GATEWAY_ALPN } from './tls.js';
