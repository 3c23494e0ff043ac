// Interrupt requests, as the lock's wait loop sees them.
#pragma once

namespace rawthread::interrupt {

// Consumes an interrupt request addressed to the calling thread, if there is
// one. Costs one load while no request is pending anywhere.
bool consume_own() noexcept;

}  // namespace rawthread::interrupt
