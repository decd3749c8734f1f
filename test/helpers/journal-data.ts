import { approvedAnswer } from '../../src/contract/connector-answer';
import type { NewClaim, Settlement } from '../../src/store/journal';

/** A claim as the service would write it for a $10 Visa charge; tests change what they need. */
export function claimFor(transactionId: string, overrides: Partial<NewClaim> = {}): NewClaim {
  return {
    connector: 'payconex',
    account: '123456789012',
    transactionId,
    method: 'charge',
    tender: 'card',
    amount: '10.00',
    currency: 'USD',
    cardBrand: 'visa',
    last4: '1111',
    fingerprint: 'f'.repeat(64),
    credentialHash: 'c'.repeat(32),
    sessionId: null,
    owner: 'instance-a',
    ...overrides,
  };
}

export function approvedSettlement(gatewayTransactionId: string): Settlement {
  return {
    status: 'approved',
    gatewayTransactionId,
    errorCode: null,
    errorMessage: null,
    gatewayMs: 87,
    answer: approvedAnswer('charge', gatewayTransactionId),
  };
}
