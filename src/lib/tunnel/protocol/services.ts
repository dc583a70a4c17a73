// Service maps from callers: a Map as it is, a record by its own keys only. A
// tunnel's service may be named `constructor`, `toString` or `__proto__` (all
// match the service-id pattern), so a service is never looked up on a plain
// object, where those names find Object.prototype's members.
export function serviceMap<T>(services: Readonly<Record<string, T>> | ReadonlyMap<string, T>): Map<string, T> {
  if (isMap(services)) return new Map<string, T>(services)
  return new Map<string, T>(Object.entries<T>(services))
}

function isMap<T>(services: Readonly<Record<string, T>> | ReadonlyMap<string, T>): services is ReadonlyMap<string, T> {
  return services instanceof Map
}
