// Maps `METHOD /path?query` of a REST-JSON request to its operation name using
// the service's API model — the same botocore model moto routes with, read from
// the project virtualenv (botocore/data/<service>/<version>/service-2.json.gz).
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {ServiceModel} from './validation/model.ts'

export interface RouteMatch {
  operation: string
  params: Record<string, string>
}

interface Route {
  operation: string
  method: string
  pattern: RegExp
  names: string[]
  requiredQuery: string[]
  /** Literal characters of the path template: more is more specific. */
  weight: number
}

export class RestRouter {
  readonly #routes: Route[]

  constructor(operations: Record<string, {http?: {method: string; requestUri: string}}>) {
    this.#routes = []
    for (const [operation, definition] of Object.entries(operations)) {
      if (!definition.http) continue
      const [path = '/', queryPart = ''] = definition.http.requestUri.split('?')
      const names: string[] = []
      let source = ''
      let weight = 0
      for (const piece of path.split(/(\{[^}]+\})/)) {
        const member = /^\{([^}]+?)(\+?)\}$/.exec(piece)
        if (member) {
          names.push(member[1])
          source += member[2] ? '(.+)' : '([^/]+)'
        } else {
          source += piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          weight += piece.length
        }
      }
      const requiredQuery = queryPart ? queryPart.split('&').map((p) => p.split('=')[0]).filter(Boolean) : []
      this.#routes.push({
        operation,
        method: definition.http.method,
        pattern: new RegExp(`^${source.replace(/\/$/, '')}/?$`),
        names,
        requiredQuery,
        weight: weight + requiredQuery.length * 100,
      })
    }
    this.#routes.sort((a, b) => b.weight - a.weight)
  }

  match(method: string, url: URL): RouteMatch | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue
      if (!route.requiredQuery.every((key) => url.searchParams.has(key))) continue
      const found = route.pattern.exec(url.pathname)
      if (!found) continue
      const params: Record<string, string> = {}
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(found[i + 1])
      })
      return {operation: route.operation, params}
    }
    return undefined
  }
}

/** Finds botocore's data folder inside a virtualenv (`<venv>/lib/python3.X/site-packages/botocore/data`). */
export function botocoreDataDir(venv: string): string | undefined {
  try {
    for (const python of readdirSync(join(venv, 'lib'))) {
      const dir = join(venv, 'lib', python, 'site-packages', 'botocore', 'data')
      try {
        readdirSync(dir)
        return dir
      } catch {
        // not this python
      }
    }
  } catch {
    // no lib/ at all
  }
  return undefined
}

/** Lazily built routers, one per signing name that has a REST-JSON model (from validation/model.ts's loader). */
export function restRouters(modelFor: (service: string) => ServiceModel | undefined): (service: string) => RestRouter | undefined {
  const cache = new Map<string, RestRouter | undefined>()
  return (service) => {
    if (cache.has(service)) return cache.get(service)
    const model = modelFor(service)
    // REST-XML (S3) tells some operations apart by headers (CopyObject vs PutObject): left to `METHOD /path`.
    const router = model?.metadata.protocol === 'rest-json' ? new RestRouter(model.operations) : undefined
    cache.set(service, router)
    return router
  }
}
