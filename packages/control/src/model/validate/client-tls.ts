/** ClientTLSSettings of a DestinationRule (Istio's agent.ValidateTLS). */
import type { ClientTLSSettings } from '../istio-types.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function validateClientTLS(tls: ClientTLSSettings | undefined, path: FieldPath, r: Reporter): void {
  if (!tls) return;
  if (tls.insecureSkipVerify) {
    if (tls.mode === 'SIMPLE' && (tls.caCertificates || tls.credentialName || tls.subjectAltNames)) {
      r.error(path, 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true');
    }
    if (tls.mode === 'MUTUAL' && (tls.caCertificates || tls.subjectAltNames)) {
      r.error(path, 'cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true');
    }
  }
  if ((tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL') && tls.credentialName) {
    // Credentials come from the named secret; file paths would conflict.
    if (tls.clientCertificate || tls.caCertificates || tls.privateKey || tls.caCrl) {
      r.error(path, 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
    }
    return;
  }
  if (tls.mode === 'MUTUAL') {
    if (!tls.clientCertificate) r.error([...path, 'clientCertificate'], 'client certificate required for mutual tls');
    if (!tls.privateKey) r.error([...path, 'privateKey'], 'private key required for mutual tls');
  }
}
