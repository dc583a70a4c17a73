// Step 2 of the walkthrough as steps, in order: both keys before both secrets
// (a secret is created encrypted with its account's key), A's secret before B's
// (B is made from A).
import type {Step} from '../plan/types.ts'
import {kmsKeyStep} from './keys.ts'
import {secretStep} from './secret-steps.ts'

export const keySteps: Step[] = [kmsKeyStep('msk'), kmsKeyStep('iot')]
export const secretSteps: Step[] = [secretStep('msk'), secretStep('iot')]
/**
 * The second user of the alternating pair (names.ts), its secret mirrored the same way:
 * registry steps of their own (`up`, cleanup, doctor), so the first user's keep the ids
 * of a one-secret stack and `up` on such a stack only adds these.
 */
export const alternateSecretSteps: Step[] = [secretStep('msk', 'b'), secretStep('iot', 'b')]

/** What `secret mirror` runs. */
export const mirrorSteps: Step[] = [...keySteps, ...secretSteps]
