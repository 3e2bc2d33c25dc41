/**
 * The digit-box reader's public entry points. Other modules (the form reader, the bench, the CLI)
 * import from here or from the named modules; nothing else in this folder is a contract.
 */
export { normaliseBox, BoxImageError, NORM_SIZE, type RawImage, type NormalisedBox } from './preprocess.js';
export { classifyBoxes, classifyBoxesDetailed, loadDigitModel, DigitModel, type BoxResult, type ModelMeta } from './model.js';
export { evaluateDigits, type DigitEvaluation, type EvaluateOptions } from './evaluate.js';
export { isHeldOut, splitPart, HELD_OUT_SHARE, type SplitPart } from './split.js';
export { decodeImage, hasRealCrops, loadMnist, loadRealCrops, mnistAsRaw, realCropsDir, sharedDataDir } from './data.js';
export { expectedCalibrationError, fitTemperature, pairCalibrationError } from './calibrate.js';
