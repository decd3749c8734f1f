import type { PaymentMethod } from './payment-request';

/**
 * What the connector answers. All three keys are always present; on failure the
 * id key is null. `parameters` reaches the <Pay> action as PayConnector_<key>.
 */
export type ConnectorAnswer = {
  [idKey in IdKey]?: string | null;
} & {
  error_code: string | null;
  error_message: string | null;
  parameters?: Record<string, string>;
};

export type IdKey = 'charge_id' | 'token_id';

export function idKeyFor(method: PaymentMethod): IdKey {
  return method === 'tokenize' ? 'token_id' : 'charge_id';
}

export function approvedAnswer(method: PaymentMethod, id: string, parameters?: Record<string, string>): ConnectorAnswer {
  return withParameters({ [idKeyFor(method)]: id, error_code: null, error_message: null }, parameters);
}

export function failedAnswer(
  method: PaymentMethod,
  errorCode: string,
  errorMessage: string,
  parameters?: Record<string, string>,
): ConnectorAnswer {
  return withParameters({ [idKeyFor(method)]: null, error_code: errorCode, error_message: errorMessage }, parameters);
}

function withParameters(answer: ConnectorAnswer, parameters?: Record<string, string>): ConnectorAnswer {
  return parameters && Object.keys(parameters).length > 0 ? { ...answer, parameters } : answer;
}
