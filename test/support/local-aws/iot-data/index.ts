// The emulated AWS IoT Core data plane of the local AWS. See README.md ("IoT data plane").
export {IotDataPlane, type IotDataPlaneOptions, type PublishEvent, type PublishListener} from './data-plane.ts'
export {evaluate, resourcePattern, wildcardMatch, type AccessRequest, type Decision, type NamedPolicy} from './iot-policy.ts'
export {certificateIdOf, LocalCa} from './pki.ts'
export {checkPresigned, CredentialBook, IOT_SIGNING_SERVICE} from './sigv4.ts'
