#!/usr/bin/env bash
# The core certification checks with plain curl, for a merchant's terminal (no Node needed).
# Usage: scripts/certify.sh URL USERNAME PASSWORD
#   e.g. scripts/certify.sh http://localhost:8080 123456789012 0123456789abcdefABCDEF9876543210
# Expectations are the embedded sandbox's (decline at 1.01 with 30002). Exits 1 if any check fails.
set -u

if [ $# -ne 3 ]; then
  echo "usage: $0 URL USERNAME PASSWORD" >&2
  exit 2
fi
url="${1%/}"
username="$2"
password="$3"
run="certify-sh-$(date +%s)-$$"
passed=0
failed=0

# post BODY [curl options...]: prints "STATUS BODY" on one line.
post() {
  local body="$1"
  shift
  curl -sS -o /tmp/certify-answer.$$ -w '%{http_code}' "$@" --data-binary "$body" "$url/" 2>/tmp/certify-error.$$ \
    || { echo "000 $(cat /tmp/certify-error.$$)"; return; }
  echo " $(cat /tmp/certify-answer.$$)"
}

# check NAME ANSWER EXPECTED_STATUS PATTERN: the answer must have the status and match the pattern.
check() {
  local name="$1" answer="$2" status="$3" pattern="$4"
  local got_status="${answer%% *}"
  if [ "$got_status" = "$status" ] && printf '%s' "$answer" | grep -Eq -- "$pattern"; then
    printf 'PASS  %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL  %s: expected HTTP %s matching %s, got: %.200s\n' "$name" "$status" "$pattern" "$answer"
    failed=$((failed + 1))
  fi
}

auth=(-u "$username:$password" -H 'Content-Type: application/json')
card='"cardnumber":"4111111111111111","cvv":"123","expiry_month":"12","expiry_year":"30"'
approved_charge='"charge_id":"[^"]+","error_code":null,"error_message":null'

check "card charge" "$(post "{\"method\":\"charge\",\"transaction_id\":\"$run-1\",$card,\"amount\":\"10.00\",\"currency_code\":\"USD\"}" "${auth[@]}")" 200 "$approved_charge"
check "card tokenize" "$(post "{\"method\":\"tokenize\",\"transaction_id\":\"$run-2\",$card}" "${auth[@]}")" 200 '"token_id":"[^"]+","error_code":null'
check "ACH charge" "$(post "{\"method\":\"charge\",\"transaction_id\":\"$run-3\",\"bankaccountnumber\":\"123456789\",\"routingnumber\":\"244183602\",\"amount\":\"10.00\"}" "${auth[@]}")" 200 "$approved_charge"
check "decline at 1.01" "$(post "{\"method\":\"charge\",\"transaction_id\":\"$run-4\",$card,\"amount\":\"1.01\"}" "${auth[@]}")" 200 '"charge_id":null,"error_code":"30002"'

duplicate="{\"method\":\"charge\",\"transaction_id\":\"$run-5\",$card,\"amount\":\"10.00\"}"
first="$(post "$duplicate" "${auth[@]}")"
second="$(post "$duplicate" "${auth[@]}")"
if [ "$first" = "$second" ] && printf '%s' "$first" | grep -Eq "$approved_charge"; then
  printf 'PASS  %s\n' "same transaction_id twice"; passed=$((passed + 1))
else
  printf 'FAIL  %s: first %.120s, then %.120s\n' "same transaction_id twice" "$first" "$second"; failed=$((failed + 1))
fi

check "wrong credentials" "$(post "{\"method\":\"charge\",\"transaction_id\":\"$run-6\",$card,\"amount\":\"10.00\"}" -u "$username:${password}x" -H 'Content-Type: application/json')" 401 '"error_code":"UNAUTHORIZED"'
check "no Content-Type" "$(post "{\"method\":\"charge\",\"transaction_id\":\"$run-7\",$card,\"amount\":\"10.00\"}" -u "$username:$password" -H 'Content-Type:')" 200 "$approved_charge"
check "malformed body" "$(post '{"method":"charge","transaction_id":' "${auth[@]}")" 400 '"error_code":"MALFORMED_BODY"'

rm -f /tmp/certify-answer.$$ /tmp/certify-error.$$
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
