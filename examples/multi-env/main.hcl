# Dev, test and prod in two regions (EMEA and North America) from one
# for_each: six connections, one app registration, one browser sign-in.
# The org URLs are variables with real-looking defaults; override them
# with -var-file (see README.md) to point at your own orgs or the emulator.

variable "tenant_id" {
  type        = string
  description = "Directory (tenant) id of the app registration."
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "client_id" {
  type        = string
  description = "Application (client) id of a public client app with redirect http://localhost."
  default     = "11111111-1111-1111-1111-111111111111"
}

variable "authority" {
  type        = string
  description = "The Entra ID authority host: the public cloud unless testing against connform emulator."
  default     = "https://login.microsoftonline.com"
}

variable "orgs" {
  type        = map(map(string))
  description = "Region → environment → org URL (any form Dynamics shows is accepted)."
  default = {
    emea = {
      dev  = "https://contoso-dev.crm4.dynamics.com"
      test = "https://contoso-test.crm4.dynamics.com"
      prod = "https://contoso.crm4.dynamics.com"
    }
    na = {
      dev  = "https://contoso-na-dev.crm.dynamics.com"
      test = "https://contoso-na-test.crm.dynamics.com"
      prod = "https://contoso-na.crm.dynamics.com"
    }
  }
}

locals {
  endpoint = "${var.authority}/${var.tenant_id}/oauth2/v2.0"
  # One instance per region and environment, keyed "dev-emea", "prod-na"...
  environments = merge([
    for region, envs in var.orgs : {
      for env, url in envs : "${env}-${region}" => { url = url, env = env, region = region }
    }
  ]...)
}

connform {
  library_path = "library"
}

connection "crm" {
  for_each = local.environments

  url               = each.value.url
  tenant_id         = var.tenant_id
  client_id         = var.client_id
  authorization_url = "${local.endpoint}/authorize"
  token_url         = "${local.endpoint}/token"
  entity            = "account"
  description       = "${upper(each.value.env)} (${upper(each.value.region)})"
}
