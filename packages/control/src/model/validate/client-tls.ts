/** ClientTLSSettings of a DestinationRule (Istio's agent.ValidateTLS). */
import type { ClientTLSSettings } from '../istio-types.js';
import type { FieldPath } from './path.js';
import type { Reporter } from './reporter.js';

export function validateClientTLS(tls: ClientTLSSettings | undefined, path: FieldPath, r: Reporter): void {
  if (!tls) return;
  warnUnsupported(tls, path, r);
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

/** Modes and fields Trellis accepts but can't honour yet: said out loud, never dropped silently. */
function warnUnsupported(tls: ClientTLSSettings, path: FieldPath, r: Reporter): void {
  if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'MUTUAL') {
    r.warn([...path, 'mode'], `mTLS is not supported yet: tls.mode ${tls.mode} is ignored and connections stay plaintext`);
    return;
  }
  if (tls.mode !== 'SIMPLE' || tls.insecureSkipVerify) return;
  if (tls.credentialName) {
    r.warn([...path, 'credentialName'], 'credentialName (Kubernetes secrets) is not supported: the upstream certificate is not verified; give caCertificates instead');
  }
  if (tls.caCrl) r.warn([...path, 'caCrl'], 'certificate revocation lists are not supported: caCrl is ignored');
}
