export { TextTokenizer, SPECIAL_TOKENS, type EncodedBatch, type TrainTokenizerOptions } from './textTokenizer';
