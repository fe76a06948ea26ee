import "@k3sinfra/core";
