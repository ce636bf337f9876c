/**
 * Training on DJL autograd (PyTorch engine) on the CPU: the demo's GPT-NeoX language model, trained
 * through the same forward pass QDM audits ({@link qdm.model.Transformer}), and sparse autoencoders
 * on a model's residual stream, written in SAELens format.
 */
package qdm.train;
