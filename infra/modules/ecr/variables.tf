variable "name" {
  description = "Name of the repository."
  type        = string
}

variable "force_delete" {
  description = "Delete the repository even when it holds images (for throwaway environments)."
  type        = bool
  default     = false
}
