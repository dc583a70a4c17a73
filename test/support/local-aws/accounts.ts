// Which account an access key speaks for. Keys from STS AssumeRole answers
// that pass through the stand-in are learnt from those answers (the assumed
// role's account and the returned AccessKeyId); any other key is asked of moto
// once (sts:GetCallerIdentity) — static keys moto does not know map to its
// default account, 123456789012.
import {xmlText, type MotoClient} from './moto-client.ts'

export const MOTO_DEFAULT_ACCOUNT = '123456789012'

export class AccountBook {
  readonly #keys = new Map<string, Promise<string>>()
  readonly #moto: MotoClient
  readonly #region: string

  constructor(moto: MotoClient, region: string) {
    this.#moto = moto
    this.#region = region
  }

  learn(accessKeyId: string, account: string): void {
    this.#keys.set(accessKeyId, Promise.resolve(account))
  }

  /** Reads an AssumeRole / AssumeRoleWithWebIdentity / GetSessionToken answer. */
  learnFromStsAnswer(xml: string, callerAccount: string): void {
    const key = xmlText(xml, 'AccessKeyId')
    if (!key) return
    const assumed = /arn:aws[\w-]*:sts::(\d{12}):assumed-role\//.exec(xmlText(xml, 'Arn') ?? '')
    this.learn(key, assumed ? assumed[1] : callerAccount)
  }

  resolve(accessKeyId: string | undefined): Promise<string> {
    if (!accessKeyId) return Promise.resolve(MOTO_DEFAULT_ACCOUNT)
    let account = this.#keys.get(accessKeyId)
    if (!account) {
      account = this.#askMoto(accessKeyId)
      this.#keys.set(accessKeyId, account)
    }
    return account
  }

  async #askMoto(accessKeyId: string): Promise<string> {
    try {
      const answer = await this.#moto.query('sts', MOTO_DEFAULT_ACCOUNT, this.#region, {Action: 'GetCallerIdentity', Version: '2011-06-15'}, accessKeyId)
      return xmlText(answer.body.toString('utf8'), 'Account') ?? MOTO_DEFAULT_ACCOUNT
    } catch {
      this.#keys.delete(accessKeyId)
      return MOTO_DEFAULT_ACCOUNT
    }
  }

  /** Forgets learnt keys (after a moto reset they mean nothing). */
  reset(): void {
    this.#keys.clear()
  }
}
