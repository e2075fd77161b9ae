/**
 * @module core/secure-url
 * A URL that carries or vouches for credentials (a token endpoint, a key set)
 * must be https; plain http is allowed only on loopback, for a local or test
 * server. One rule for every such field.
 */
import { z } from 'zod';

/** Loopback hosts: localhost, 127.x.y.z and [::1]. */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** True for an https URL, or an http one on loopback. */
export function isSecureUrl(url: string): boolean {
  return url.startsWith('https:') || LOOPBACK.test(new URL(url).hostname);
}

/**
 * An http(s) URL field that must be https off loopback.
 * @param why what a plain-http URL would expose, for the message: "it carries the client secret"
 */
export function secureUrl(why: string) {
  return z.url({ protocol: /^https?$/ }).refine(isSecureUrl, { message: `must be https: ${why} (plain http is allowed only on loopback, e.g. 127.0.0.1)` });
}
