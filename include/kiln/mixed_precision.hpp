// Keras's dtype policies, which say how a layer computes:
//   "float32"         everything in float32 (the default);
//   "mixed_bfloat16"  matrix products take bfloat16 operands (rounded to nearest even) and sum in
//                     float32; weights, their updates, activations and the loss stay float32.
// A layer takes the global policy when it is created, as in Keras, or its own `dtype` option;
// config.json records each layer's policy, so a loaded model computes as it was trained.
#pragma once

#include <string>

namespace kiln::mixed_precision {

// Throws ValueError for a name other than "float32" or "mixed_bfloat16". Each thread has its own
// policy, so threads building their own models do not race: set_global_policy sets the calling
// thread's, and the one every thread that never set its own uses (as Keras's one global policy).
void set_global_policy(const std::string& name);
std::string global_policy();
// The name if kiln knows the policy; ValueError naming the known ones otherwise.
const std::string& check_policy(const std::string& name);
// Whether this CPU computes bfloat16 products natively (AVX512_BF16). Without it they are
// computed as float32 FMAs on the rounded operands: the same numbers, more slowly than float32.
bool has_native_bfloat16();

}  // namespace kiln::mixed_precision
