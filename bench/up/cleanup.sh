#!/usr/bin/env bash
# Takes down what walkthrough.sh made, in reverse order, from the ids it wrote
# to $STATE_FILE (same environment as walkthrough.sh; the profiles `msk` and
# `iot` it added to the credentials file are still there).
set -euo pipefail

# shellcheck source=aws-cli.sh
source "$(dirname "$0")/aws-cli.sh"
# shellcheck disable=SC1090
source "$STATE_FILE"

a iot iot delete-topic-rule --rule-name "$RULE"
a iot iot delete-topic-rule-destination --arn "$DESTINATION"
while a iot iot get-topic-rule-destination --arn "$DESTINATION" > /dev/null 2>&1; do sleep 1; done
a iot iam delete-role-policy --role-name "$ROLE" --policy-name iotctl-vpc-destination-and-secret
a iot iam delete-role --role-name "$ROLE"
a msk kafka batch-disassociate-scram-secret --cluster-arn "$CLUSTER_ARN" --secret-arn-list "$MSK_SECRET" > /dev/null
a iot secretsmanager delete-secret --secret-id "$IOT_SECRET" --force-delete-without-recovery > /dev/null
a msk secretsmanager delete-secret --secret-id "$MSK_SECRET" --force-delete-without-recovery > /dev/null
a iot kms delete-alias --alias-name "alias/iotctl-$STACK"
a iot kms schedule-key-deletion --key-id "${IOT_KEY##*/}" --pending-window-in-days 7 > /dev/null
a msk kms delete-alias --alias-name "alias/iotctl-$STACK"
a msk kms schedule-key-deletion --key-id "${MSK_KEY##*/}" --pending-window-in-days 7 > /dev/null
a msk ec2 revoke-security-group-ingress --group-id "$MSK_SG" --ip-permissions "IpProtocol=tcp,FromPort=9096,ToPort=9096,IpRanges=[{CidrIp=$IOT_CIDR}]" > /dev/null
for table in $MSK_TABLES; do a msk ec2 delete-route --route-table-id "$table" --destination-cidr-block "$IOT_CIDR"; done
for table in $IOT_TABLES; do a iot ec2 delete-route --route-table-id "$table" --destination-cidr-block "$MSK_CIDR"; done
a iot ec2 delete-vpc-peering-connection --vpc-peering-connection-id "$PCX" > /dev/null
