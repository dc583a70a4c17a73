# Sourced by walkthrough.sh and cleanup.sh: `a <profile> <service> <operation> …`
# calls Debian's awscli (v2.9) — explicitly, since a pyenv shim `aws` (CLI v1)
# may come first on PATH — at the local endpoint: CLI 2.9 reads no
# AWS_ENDPOINT_URL, so every call names it.
AWS=/usr/bin/aws
a() {
  local profile=$1
  shift
  "$AWS" --profile "$profile" --endpoint-url "$ENDPOINT" --region "$REGION" --output text "$@"
}
