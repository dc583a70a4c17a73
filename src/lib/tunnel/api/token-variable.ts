// The environment variable the C++ localproxy reads its access token from; a
// module of its own so that the lean runner's argv check (src/lean) can name it
// without loading the proxies.
export const TOKEN_ENVIRONMENT_VARIABLE = 'AWSIOT_TUNNEL_ACCESS_TOKEN'
