/**
 * A throwaway certificate authority and a serving certificate for the Kubernetes face, made
 * with ECDSA P-256 keys (fast to generate) through WebCrypto and @peculiar/x509.
 *
 * It uses the global `crypto` (WebCrypto, global in Node ≥ 19) rather than `node:crypto`'s
 * `webcrypto` export: @peculiar/x509 is typed against the global WebCrypto types, and packages that
 * compile this file with the DOM library (the dashboard) see the same types that way.
 */
const webcrypto = globalThis.crypto;
/** What `generateKey` resolves to for an asymmetric algorithm (typed alike under Node and DOM libs). */
type WebCryptoKey = Awaited<ReturnType<typeof webcrypto.subtle.importKey>>;
interface KeyPair {
  readonly publicKey: WebCryptoKey;
  readonly privateKey: WebCryptoKey;
}

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface ServingCertificates {
  /** PEM of the CA certificate (what a kubeconfig's certificate-authority-data carries). */
  readonly caPem: string;
  /** PEM of the serving certificate. */
  readonly certPem: string;
  /** PKCS#8 PEM of the serving key. */
  readonly keyPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function serial(): string {
  // A positive 16-byte serial number.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** Generate a CA and a serving certificate for `hosts` (IP addresses and DNS names). */
export async function createServingCertificates(
  hosts: readonly string[] = ['127.0.0.1', 'localhost'],
  validDays = 365,
): Promise<ServingCertificates> {
  x509.cryptoProvider.set(webcrypto);
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + validDays * DAY);
  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=devcluster-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
  const isIp = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(':');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=devcluster-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h): x509.JsonGeneralName => ({ type: isIp(h) ? 'ip' : 'dns', value: h })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: pem('PRIVATE KEY', pkcs8) };
}
