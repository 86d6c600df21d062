/**
 * The errors moved to src/errors.ts (one error type for the whole product). This re-export stays
 * only so that branches written against the old path merge; import from '../errors.js'.
 */
export { InputError, isInputError } from '../errors.js';
