/**
 * The joint decoder's public entry points (see docs/DECODER.md):
 *   decodePage(fields, identities, opts?) → DecodeResult   x*, posteriors, marginals, residuals, changes, class
 *   fusePhotos(fieldsA, fieldsB) → fields                   two photos of one sheet, per-box likelihoods multiplied
 *   fuseBoxes(boxesA, boxesB) → boxes                        the same for one field
 * DecoderInputError is thrown for malformed input (wrong box length, unknown field in an identity...).
 */
export { decodePage, fusePhotos, fuseBoxes, type DecodeField, type DecodeOptions, type DecodeResult } from './decode.js';
export { DECODER_PARAMS, type DecoderParams } from './params.js';
export { DecoderInputError, fieldLikelihood, argmaxValue } from './likelihood.js';
