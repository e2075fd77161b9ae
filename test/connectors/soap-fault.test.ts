/**
 * classifyFault: which SOAP fault codes are the service's own trouble (retried)
 * and which are the caller's (permanent), whatever the prefix and however the
 * code is refined after a dot.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { classifyFault } from '../../src/connectors/soap-fault.ts';

it('retries Server and Receiver faults, refined with a dot or not, under any prefix', () => {
  for (const code of ['soap:Server', 'SOAP-ENV:Server', 'soap:Server.Busy', 'env:Receiver', 'Server', 'soap12:Receiver.Overloaded.Retry']) {
    assert.equal(classifyFault({ code, reason: 'x' }), 'retry', code);
  }
});

it('does not retry Client, Sender, VersionMismatch or MustUnderstand faults, nor a code that only starts like Server', () => {
  for (const code of ['soap:Client', 'soap:Client.Auth', 'env:Sender', 'soap:VersionMismatch', 'soap:MustUnderstand', 'soap:ServerError', '']) {
    assert.equal(classifyFault({ code, reason: 'x' }), 'permanent', code);
  }
});
