/**
 * Name formats shared with Kubernetes (apimachinery validation), so every valid Berth name is
 * also a valid Kubernetes name and Mesos role.
 */

/** DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

/** DNS-1123 subdomain: dot-separated DNS labels. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_SUBDOMAIN_MAX = 253;

/**
 * IANA service name (Kubernetes port names): at most 15 characters, lowercase alphanumerics and
 * '-', at least one letter, no leading, trailing or double '-'.
 */
export const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const PORT_NAME_MAX = 15;

/** Label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** Label value: empty, or alphanumerics, '-', '_', '.' starting and ending alphanumeric. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const LABEL_NAME_MAX = 63;

/** Environment variable name (POSIX portable). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A Kubernetes quantity string: a non-negative decimal number with an optional SI suffix
 * (n u m k M G T P E), binary suffix (Ki Mi Gi Ti Pi Ei) or decimal exponent (e3, E-2).
 */
export const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** True when a label key's parts respect their length limits (the regex checks the characters). */
export function labelKeyLengthOk(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefix = slash === -1 ? '' : key.slice(0, slash);
  return name.length <= LABEL_NAME_MAX && prefix.length <= DNS_SUBDOMAIN_MAX;
}
