export { maskedSoftmaxCrossEntropy, IGNORE_INDEX } from './maskedCrossEntropy';
export { maskedMse } from './maskedMse';
export { NTXentLoss, type NTXentOptions } from './ntXent';
export { CpcInfoNceLoss, type CpcInfoNceOptions } from './cpcInfoNce';
export { VICRegLoss, type VICRegOptions } from './vicreg';
