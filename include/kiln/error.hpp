// The exceptions kiln's public API throws. Every message names what was received and what was
// expected; nothing in the library exits or aborts.
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A tensor or layer received a shape it cannot work with.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A value (argument, option, config field) is out of range or unknown.
class ValueError : public Error {
 public:
  using Error::Error;
};

// A file or stream could not be read or written, or its contents are malformed.
class IoError : public Error {
 public:
  using Error::Error;
};

// A model configuration (config.json) is malformed or names something unknown.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A collective operation of distributed training did not complete: another process died,
// stalled or left the run (kiln/distribute.hpp).
class CommunicationError : public Error {
 public:
  using Error::Error;
};

}  // namespace kiln
