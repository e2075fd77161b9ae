/** @module triggers/sleep (moved to core/sleep; kept until the triggers import it from there) */
export { sleep } from '../core/sleep.ts';
