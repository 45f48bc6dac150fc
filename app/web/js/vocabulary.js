/** Names of the face track's expression ids (column 0 of each face row), in the order of
 * stickgen.schema.FacialExpression. */
export const EXPRESSIONS = ["neutral", "happy", "sad", "surprised", "angry", "excited"];

export const EXPRESSION_COLOURS = {
  neutral: "#d9dde3",
  happy: "#ffe27a",
  sad: "#9cc3f0",
  surprised: "#d6b8f5",
  angry: "#f59a8f",
  excited: "#ffb867",
};
