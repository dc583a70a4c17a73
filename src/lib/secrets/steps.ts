// Step 2 of the walkthrough as steps, in order: both keys before both secrets
// (a secret is created encrypted with its account's key), A's secret before B's
// (B is made from A).
import type {Step} from '../plan/types.ts'
import {kmsKeyStep} from './keys.ts'
import {secretStep} from './secret-steps.ts'

export const keySteps: Step[] = [kmsKeyStep('msk'), kmsKeyStep('iot')]
export const secretSteps: Step[] = [secretStep('msk'), secretStep('iot')]

/** What `secret mirror` runs. */
export const mirrorSteps: Step[] = [...keySteps, ...secretSteps]
