/**
 * @module core/ids
 * Message ids are UUIDv7 (RFC 9562): unique without coordination and sortable by creation time.
 */
import { v7 } from 'uuid';

export function newId(): string {
  return v7();
}
