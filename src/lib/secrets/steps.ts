// Step 2 of the walkthrough as steps, in order: both keys before both secrets
// (a secret is created encrypted with its account's key), A's secret before B's
// (B is made from A).
import type {Step} from '../plan/types.ts'
import {kmsKeyStep} from './keys.ts'
import {secretStep} from './secret-steps.ts'

export const keySteps: Step[] = [kmsKeyStep('msk'), kmsKeyStep('iot')]
// Each user of the alternating pair (names.ts) has its mirrored secret: slot a's steps keep
// the ids of a one-secret stack, so `up` on such a stack only adds the alternate's.
export const secretSteps: Step[] = [secretStep('msk'), secretStep('iot'), secretStep('msk', 'b'), secretStep('iot', 'b')]

/** What `secret mirror` runs. */
export const mirrorSteps: Step[] = [...keySteps, ...secretSteps]
