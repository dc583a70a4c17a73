#!/usr/bin/env bash
# The walkthrough `iotctl up` automates (DESIGN.md, steps 2–7), as a plain AWS
# CLI v2 script across two --profiles: the reference `bench/up/run.ts` times
# against `iotctl up`. It does what a careful hand-written script does — the
# reads it needs (accounts, CIDRs, route tables, the key policy, the brokers),
# waits for the peering and the destination — and no more: no checks for what
# exists already, so it runs once, from an empty state. It writes the ids it
# made to $STATE_FILE for cleanup.sh.
#
# Environment (set by run.ts): ENDPOINT REGION STACK IOT_VPC MSK_VPC
# IOT_SUBNETS (comma-separated) IOT_SG MSK_SG CLUSTER_ARN BASE_PROFILE
# IOT_ROLE_ARN MSK_ROLE_ARN STATE_FILE, and AWS_CONFIG_FILE /
# AWS_SHARED_CREDENTIALS_FILE for the CLI.
set -euo pipefail

# shellcheck source=aws-cli.sh
source "$(dirname "$0")/aws-cli.sh"

# The CLI's own role_arn provider would call the public STS endpoint: assume
# both admin roles through the local endpoint and keep the session
# credentials as the profiles `msk` and `iot`.
for side in msk iot; do
  role_var="${side^^}_ROLE_ARN"
  read -r key secret token < <(a "$BASE_PROFILE" sts assume-role --role-arn "${!role_var}" --role-session-name bench-up \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]')
  printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n\n' "$side" "$key" "$secret" "$token" >> "$AWS_SHARED_CREDENTIALS_FILE"
done

TAG="Key=iotctl:stack,Value=$STACK"
MSK_ACCOUNT=$(a msk sts get-caller-identity --query Account)
IOT_ACCOUNT=$(a iot sts get-caller-identity --query Account)
MSK_CIDR=$(a msk ec2 describe-vpcs --vpc-ids "$MSK_VPC" --query 'Vpcs[0].CidrBlock')
IOT_CIDR=$(a iot ec2 describe-vpcs --vpc-ids "$IOT_VPC" --query 'Vpcs[0].CidrBlock')
# The route tables of each VPC's subnets.
MSK_TABLES=$(a msk ec2 describe-route-tables --filters "Name=vpc-id,Values=$MSK_VPC" --query 'RouteTables[?Associations[?SubnetId]].RouteTableId')
IOT_TABLES=$(a iot ec2 describe-route-tables --filters "Name=vpc-id,Values=$IOT_VPC" --query 'RouteTables[?Associations[?SubnetId]].RouteTableId')

# Step 4: peering requested by B, accepted by A, routes both ways, broker ingress.
PCX=$(a iot ec2 create-vpc-peering-connection --vpc-id "$IOT_VPC" --peer-vpc-id "$MSK_VPC" --peer-owner-id "$MSK_ACCOUNT" --peer-region "$REGION" \
  --tag-specifications "ResourceType=vpc-peering-connection,Tags=[{$TAG}]" --query VpcPeeringConnection.VpcPeeringConnectionId)
a msk ec2 accept-vpc-peering-connection --vpc-peering-connection-id "$PCX" > /dev/null
until [ "$(a iot ec2 describe-vpc-peering-connections --vpc-peering-connection-ids "$PCX" --query 'VpcPeeringConnections[0].Status.Code')" = active ]; do sleep 1; done
a msk ec2 create-tags --resources "$PCX" --tags "$TAG"
for table in $IOT_TABLES; do a iot ec2 create-route --route-table-id "$table" --destination-cidr-block "$MSK_CIDR" --vpc-peering-connection-id "$PCX" > /dev/null; done
for table in $MSK_TABLES; do a msk ec2 create-route --route-table-id "$table" --destination-cidr-block "$IOT_CIDR" --vpc-peering-connection-id "$PCX" > /dev/null; done
a msk ec2 authorize-security-group-ingress --group-id "$MSK_SG" \
  --ip-permissions "IpProtocol=tcp,FromPort=9096,ToPort=9096,IpRanges=[{CidrIp=$IOT_CIDR,Description=iotctl:stack=$STACK}]" > /dev/null

# Step 2: a customer-managed key and the AmazonMSK_ secret in each account, the same credentials in both.
MSK_KEY=$(a msk kms create-key --description "iotctl stack $STACK" --tags "TagKey=iotctl:stack,TagValue=$STACK" --query KeyMetadata.Arn)
a msk kms create-alias --alias-name "alias/iotctl-$STACK" --target-key-id "$MSK_KEY"
IOT_KEY=$(a iot kms create-key --description "iotctl stack $STACK" --tags "TagKey=iotctl:stack,TagValue=$STACK" --query KeyMetadata.Arn)
a iot kms create-alias --alias-name "alias/iotctl-$STACK" --target-key-id "$IOT_KEY"
umask 077
SECRET_FILE=$(mktemp)
jq -cn --arg password "$(openssl rand -base64 24)" '{username: "iotctl", password: $password}' > "$SECRET_FILE"
MSK_SECRET=$(a msk secretsmanager create-secret --name "AmazonMSK_$STACK" --kms-key-id "$MSK_KEY" --secret-string "file://$SECRET_FILE" --tags "$TAG" --query ARN)
IOT_SECRET=$(a iot secretsmanager create-secret --name "AmazonMSK_$STACK" --kms-key-id "$IOT_KEY" --secret-string "file://$SECRET_FILE" --tags "$TAG" --query ARN)
rm -f "$SECRET_FILE"

# Step 3: A's secret associated with the cluster.
a msk kafka batch-associate-scram-secret --cluster-arn "$CLUSTER_ARN" --secret-arn-list "$MSK_SECRET" > /dev/null

# Step 5: the role AWS IoT assumes, its permissions, and the role as a user of B's key.
ROLE="iotctl-$STACK-iot-to-msk"
ROLE_ARN=$(a iot iam create-role --role-name "$ROLE" --tags "$TAG" --query Role.Arn --assume-role-policy-document "$(jq -cn --arg account "$IOT_ACCOUNT" \
  '{Version: "2012-10-17", Statement: [{Effect: "Allow", Principal: {Service: "iot.amazonaws.com"}, Action: "sts:AssumeRole", Condition: {StringEquals: {"aws:SourceAccount": $account}}}]}')")
a iot iam put-role-policy --role-name "$ROLE" --policy-name iotctl-vpc-destination-and-secret --policy-document "$(jq -cn --arg secret "$IOT_SECRET" \
  '{Version: "2012-10-17", Statement: [
    {Effect: "Allow", Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
      "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSecurityGroups"], Resource: "*"},
    {Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: $secret}]}')"
KEY_POLICY=$(a iot kms get-key-policy --key-id "$IOT_KEY" --policy-name default --query Policy)
a iot kms put-key-policy --key-id "$IOT_KEY" --policy-name default --policy "$(jq -c --arg role "$ROLE_ARN" --arg region "$REGION" \
  '.Statement += [{Sid: "IotRuleRoleKeyUser", Effect: "Allow", Principal: {AWS: $role}, Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: "*",
    Condition: {StringEquals: {"kms:ViaService": "secretsmanager.\($region).amazonaws.com"}}}]' <<< "$KEY_POLICY")"

# Step 6: the VPC topic rule destination, IN_PROGRESS until ENABLED.
DESTINATION=$(a iot iot create-topic-rule-destination --query topicRuleDestination.arn --destination-configuration "$(jq -cn \
  --arg vpc "$IOT_VPC" --arg subnets "$IOT_SUBNETS" --arg group "$IOT_SG" --arg role "$ROLE_ARN" \
  '{vpcConfiguration: {vpcId: $vpc, subnetIds: ($subnets | split(",")), securityGroups: [$group], roleArn: $role}}')")
until [ "$(a iot iot get-topic-rule-destination --arn "$DESTINATION" --query topicRuleDestination.status)" = ENABLED ]; do sleep 1; done

# Step 7: the topic rule with the Apache Kafka action, credentials read with get_secret.
BROKERS=$(a msk kafka get-bootstrap-brokers --cluster-arn "$CLUSTER_ARN" --query BootstrapBrokerStringSaslScram)
RULE="iotctl_${STACK}_to_kafka"
SQL="SELECT topic(2) as device_id, temperature FROM 'device/+/data'"
get_secret() { printf "\${get_secret('%s', 'SecretString', '%s', '%s')}" "AmazonMSK_$STACK" "$1" "$ROLE_ARN"; }
a iot iot create-topic-rule --rule-name "$RULE" --topic-rule-payload "$(jq -cn --arg sql "$SQL" --arg mark "iotctl:stack=$STACK" \
  --arg destination "$DESTINATION" --arg brokers "$BROKERS" --arg username "$(get_secret username)" --arg password "$(get_secret password)" \
  '{sql: $sql, description: $mark, awsIotSqlVersion: "2016-03-23", ruleDisabled: false,
    actions: [{kafka: {destinationArn: $destination, topic: "device-data", clientProperties: {"bootstrap.servers": $brokers,
      "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.scram.username": $username, "sasl.scram.password": $password}}}]}')"

cat > "$STATE_FILE" <<EOF
PCX=$PCX
MSK_CIDR=$MSK_CIDR
IOT_CIDR=$IOT_CIDR
MSK_TABLES="$MSK_TABLES"
IOT_TABLES="$IOT_TABLES"
MSK_KEY=$MSK_KEY
IOT_KEY=$IOT_KEY
MSK_SECRET=$MSK_SECRET
IOT_SECRET=$IOT_SECRET
ROLE=$ROLE
DESTINATION=$DESTINATION
RULE=$RULE
EOF
